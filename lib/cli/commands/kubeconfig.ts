/**
 * `kumo kubeconfig`: writes a kubeconfig context for a cluster in the cloud,
 * so kubectl and kumo talk to it. With `--stack`, the API URL and the admin
 * token come from the deployed stack (its outputs, then Secrets Manager,
 * with the AWS SDK's usual credentials and region); with `--url`, from the
 * flags. The Function URL's certificate is publicly trusted: no CA data.
 */
import { Command } from 'commander';
import { upsertContext } from '../../client/kubeconfig.js';
import { STACK_OUTPUTS } from '../../cloud/stack-outputs.js';
import { CliError } from '../errors.js';
import type { Cli } from '../session.js';

interface Flags {
  stack?: string;
  url?: string;
  token?: string;
  region?: string;
  name?: string;
  setCurrent: boolean;
}

/** A stack's outputs by key. */
async function stackOutputs(stack: string, region: string | undefined): Promise<Record<string, string>> {
  // The AWS SDK is loaded only here: every other command starts without it.
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
    const s = out.Stacks?.[0];
    if (!s) throw new CliError(`stack ${stack} not found`);
    return Object.fromEntries((s.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]));
  } catch (err) {
    if (err instanceof CliError) throw err;
    const e = err as Error;
    if (e.name === 'ValidationError' && /does not exist/.test(e.message))
      throw new CliError(`stack ${stack} does not exist (region ${await cfn.config.region()})`);
    throw new CliError(`cannot read stack ${stack}: ${e.message}`);
  } finally {
    cfn.destroy();
  }
}

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(`invalid --url "${url}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new CliError(`invalid --url "${url}": must be http(s)`);
  return url.replace(/\/+$/, '');
}

export function kubeconfigCommand(cli: Cli): Command {
  return new Command('kubeconfig')
    .description('write a kubeconfig context for a kumo cluster in the cloud (from its CloudFormation stack, or a URL and token)')
    .option('--stack <name>', 'the deployed stack: reads its ApiUrl output and the admin token from Secrets Manager')
    .option('--url <url>', 'the API server URL (instead of --stack)')
    .option('--token <token>', 'the bearer token (default with --stack: the admin token)')
    .option('--region <region>', 'AWS region of the stack (default: the SDK configuration)')
    .option('--name <context>', 'the context name (default: kumo-<stack>, or kumo-cloud with --url)')
    .option('--no-set-current', 'do not make it the current context')
    .action(async function (this: Command) {
      const f = this.opts<Flags>();
      if (!f.stack === !f.url) throw new CliError('give one of --stack NAME or --url URL');
      let server: string;
      let token = f.token;
      if (f.stack) {
        const outputs = await stackOutputs(f.stack, f.region);
        const url = outputs[STACK_OUTPUTS.apiUrl];
        if (!url) throw new CliError(`stack ${f.stack} has no ${STACK_OUTPUTS.apiUrl} output: is it a kumo stack?`);
        server = checkUrl(url);
        if (!token) {
          const arn = outputs[STACK_OUTPUTS.adminTokenSecretArn];
          if (!arn) throw new CliError(`stack ${f.stack} has no ${STACK_OUTPUTS.adminTokenSecretArn} output: pass --token`);
          try {
            const { readToken } = await import('../../cloud/secrets.js');
            token = await readToken(arn);
          } catch (err) {
            throw new CliError(`cannot read the admin token from ${arn}: ${(err as Error).message}`);
          }
        }
      } else {
        server = checkUrl(f.url!);
        if (!token) throw new CliError('--url needs --token (create one with `kumo token create`)');
      }
      const name = f.name ?? (f.stack ? `kumo-${f.stack}` : 'kumo-cloud');
      const file = upsertContext({ name, server, token }, { setCurrent: f.setCurrent, env: cli.session(this).env });
      cli.io.out(`kubeconfig context "${name}" for ${server} written to ${file}${f.setCurrent ? ' (current context)' : ''}\n`);
    });
}
