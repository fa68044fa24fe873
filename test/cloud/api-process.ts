/**
 * The API function's execution environments in a process of their own, as
 * in the cloud they run apart from the controller and scheduler functions
 * (a flood at the API takes none of their CPU): the API bundle behind a
 * Function URL stand-in in Lambda's concurrency model, on loopback. Run by
 * startApiProcess (harness.ts) with the cloud's environment inherited;
 * prints `{"url": …}` once it listens and serves until SIGTERM.
 *
 * Usage: node --conditions=source --import tsx test/cloud/api-process.ts <api bundle> <cap>
 */
import { type ApiModule, ExecutionEnvironments, FunctionUrlServer, loadBundle } from './harness.js';

const [bundle, cap] = process.argv.slice(2);
if (!bundle || !Number.isInteger(Number(cap))) throw new Error('usage: api-process.ts <api bundle> <cap>');
const environments = new ExecutionEnvironments(async () => (await loadBundle<ApiModule>(bundle)).streamingHandler, Number(cap));
const server = new FunctionUrlServer(environments, 30_000);
process.stdout.write(`${JSON.stringify({ url: await server.start() })}\n`);
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
