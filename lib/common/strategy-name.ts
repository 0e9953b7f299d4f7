/** How messages name a client's strategy: a built-in's name, or a class's name (never its source text). */
export function strategyName(strategy: unknown): string {
  if (typeof strategy === 'string') return strategy;
  if (typeof strategy === 'function') return strategy.name.length > 0 ? strategy.name : 'anonymous strategy class';
  return typeof strategy;
}
