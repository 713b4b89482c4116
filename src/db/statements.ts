// Prepared statements, prepared once per SQL text and reused.
import type { DatabaseSync, StatementSync } from 'node:sqlite';

export class Statements {
  private readonly db: DatabaseSync;
  private readonly cache = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  get(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }
}

/** Base of the stores: the database, and its statements prepared once. */
export class StatementOwner {
  readonly db: DatabaseSync;
  private readonly statements: Statements;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.statements = new Statements(db);
  }

  protected stmt(sql: string): StatementSync {
    return this.statements.get(sql);
  }
}
