// Stands in for better-sqlite3 in the agent bundle and the Lambda functions' bundles
// (cdk/constructs/kumo-function.ts): neither ever opens SQLite, and leaving the native
// module out keeps them free of compiled code.
export default class Database {
  constructor() {
    throw new Error('SQLite is not part of this bundle (the node agent image, the Lambda functions): run `kumo up` from an npm install instead');
  }
}
