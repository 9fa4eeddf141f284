// A legal state configuration (W3C 3.11): the ancestors of an active state are active, an active
// compound state has exactly one active child, an active parallel state has all its children
// active, a history state is never active, and a final state is a leaf.

import type { CompiledChart, StateNode } from '../../src/index.js';

export function configurationProblems(chart: CompiledChart, activeIds: readonly string[]): string[] {
  const problems: string[] = [];
  const active = new Set<StateNode>();
  for (const id of activeIds) {
    const s = chart.stateById.get(id) ?? (chart.root.id === id ? chart.root : undefined);
    if (!s) problems.push(`'${id}' is not a state of the chart`);
    else active.add(s);
  }
  const states = (s: StateNode) => s.children.filter((c) => c.kind !== 'history');
  if (![...active].some((s) => s !== chart.root)) problems.push('no active state');
  // the root's children: exactly one, as for a compound state
  const top = states(chart.root).filter((c) => active.has(c));
  if (top.length !== 1) problems.push(`${top.length} active children of <scxml>`);
  for (const s of active) {
    if (s === chart.root) continue;
    if (s.kind === 'history') problems.push(`history state '${s.id}' is active`);
    if (s.parent && s.parent !== chart.root && !active.has(s.parent)) problems.push(`'${s.id}' is active but its parent '${s.parent.id}' is not`);
    const children = states(s);
    const on = children.filter((c) => active.has(c));
    if (s.kind === 'final' && s.children.length) problems.push(`final '${s.id}' has children`);
    if (s.kind === 'parallel' && on.length !== children.length) problems.push(`parallel '${s.id}' has ${on.length} of ${children.length} regions active`);
    if (s.kind === 'state' && children.length > 0 && on.length !== 1) problems.push(`compound '${s.id}' has ${on.length} active children`);
  }
  return problems;
}
