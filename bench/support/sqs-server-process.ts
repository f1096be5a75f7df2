import { LocalSqs } from '../../local/sqs/local-sqs.js';
import { startSqsServer } from '../../local/sqs/sqs-server.js';

/**
 * The local SQS server in a process of its own, so the ingress timings do not share an event loop
 * with the server answering them. Sends `{ url, queueUrl }` once listening; stops on disconnect.
 */
const BENCH_QUEUE = 'bench-jobs';

const engine = new LocalSqs();
engine.createQueue(BENCH_QUEUE, {});
const server = await startSqsServer({ engine });
process.send?.({ url: server.url, queueUrl: server.queueUrl(BENCH_QUEUE) });
process.once('disconnect', () => {
  void server.close().finally(() => {
    engine.close();
    process.exit(0);
  });
});
