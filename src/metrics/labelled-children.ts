/** The label value that stands for every label set beyond a metric's bound. */
export const OTHER = 'other';

/** Label sets one metric keeps at most: past it, new ones are counted under `other`. */
export const MAX_LABEL_SETS = 1000;

type Node = Map<string, unknown>;

/**
 * What a labelled series records into, one child per label set, made once and kept. Children are
 * found through nested maps, so recording a known label set allocates nothing. However label
 * values come in, a series never holds more than `limit` label sets (plus the all-`other` one).
 */
export class LabelledChildren<C> {
  private readonly tree: Node = new Map();
  private sets = 0;

  constructor(
    private readonly labelCount: 1 | 2 | 3,
    private readonly make: (values: string[]) => C,
    private readonly limit = MAX_LABEL_SETS,
  ) {}

  get(a: string, b = '', c = ''): C {
    let node: unknown = this.tree.get(a);
    if (this.labelCount > 1) node = (node as Node | undefined)?.get(b);
    if (this.labelCount > 2) node = (node as Node | undefined)?.get(c);
    return (node as C | undefined) ?? this.add([a, b, c].slice(0, this.labelCount));
  }

  private add(values: string[]): C {
    const overflowing = values.every((v) => v === OTHER);
    if (this.sets >= this.limit && !overflowing) return this.get(OTHER, OTHER, OTHER);
    const child = this.make(values);
    let node = this.tree;
    for (const value of values.slice(0, -1)) {
      let next = node.get(value) as Node | undefined;
      if (!next) node.set(value, (next = new Map()));
      node = next;
    }
    node.set(values[values.length - 1]!, child);
    this.sets++;
    return child;
  }
}
