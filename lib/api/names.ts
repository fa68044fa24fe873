/** The consonants and digits kube-apiserver's SimpleNameGenerator draws from, so that no generated suffix spells a word. */
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** A random suffix for generateName (and for the pods a controller names itself). */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}
