// Stands in for better-sqlite3 in the agent bundle: the agent never opens a store,
// and leaving the native module out keeps the image free of compiled code.
export default class Database {
  constructor() {
    throw new Error('SQLite is not part of the node agent image: run `kumo up` from an npm install instead');
  }
}
