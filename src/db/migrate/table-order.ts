// The order in which `wharf migrate` copies tables: every table after the tables its foreign
// keys name, so each row's references exist when it is inserted. Ties keep the order given
// (the source's own), so the plan is the same from run to run.

export interface TableRefs {
  name: string;
  /** Tables this one's foreign keys reference (itself and tables outside the set are ignored). */
  references: readonly string[];
}

/** Tables in foreign-key order; throws if the references form a cycle (no order can satisfy them). */
export function copyOrder(tables: readonly TableRefs[]): string[] {
  const names = new Set(tables.map((t) => t.name));
  const waitingOn = new Map(tables.map((t) => [t.name, new Set(t.references.filter((r) => r !== t.name && names.has(r)))]));
  const order: string[] = [];
  while (order.length < tables.length) {
    const next = tables.find((t) => !order.includes(t.name) && waitingOn.get(t.name)!.size === 0);
    if (!next) {
      const stuck = tables.filter((t) => !order.includes(t.name)).map((t) => t.name);
      throw new Error(`the tables ${stuck.join(', ')} reference each other in a cycle: no copy order satisfies their foreign keys`);
    }
    order.push(next.name);
    for (const deps of waitingOn.values()) deps.delete(next.name);
  }
  return order;
}
