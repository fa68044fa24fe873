/** What `GET /version` answers, and the labels of `kubernetes_build_info` on `/metrics`. */
export const VERSION_INFO = {
  major: '1',
  minor: '35',
  gitVersion: 'v1.35.0-kumo',
  gitCommit: 'kumo',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'n/a',
  compiler: 'kumo',
  platform: `${process.platform}/${process.arch}`,
};
