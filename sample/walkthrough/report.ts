import type { StepResult } from './step-result.js';

export const COLUMNS = 80;
const TITLE_WIDTH = 16;
const INDENT = '  ';
const DETAIL_INDENT = ' '.repeat(INDENT.length + 2 + TITLE_WIDTH);
/** Room for a step's details beside the titles. */
export const DETAIL_WIDTH = COLUMNS - DETAIL_INDENT.length;

/** Plain text, or with colours on a terminal. */
export interface Style {
  ok(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export const PLAIN: Style = { ok: (t) => t, bad: (t) => t, dim: (t) => t, bold: (t) => t };
export const COLOURS: Style = {
  ok: (t) => `\x1b[32m${t}\x1b[39m`,
  bad: (t) => `\x1b[31m${t}\x1b[39m`,
  dim: (t) => `\x1b[2m${t}\x1b[22m`,
  bold: (t) => `\x1b[1m${t}\x1b[22m`,
};

/** Cuts a line to the width left after `used` columns. */
export function fit(text: string, used: number): string {
  const room = COLUMNS - used;
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
}

/** Splits a line into pieces that fit beside the step titles, after a space or comma if one is near. */
export function wrap(text: string, width = DETAIL_WIDTH): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > width) {
    const breakAt = Math.max(rest.lastIndexOf(' ', width), rest.lastIndexOf(',', width - 1) + 1);
    const cut = breakAt > width / 2 ? breakAt : width;
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  pieces.push(rest);
  return pieces;
}

export function formatStep(step: StepResult, style: Style): string[] {
  const mark = step.skipped ? style.dim('–') : step.ok ? style.ok('✔') : style.bad('✘');
  const [first = '', ...rest] = step.details.flatMap((detail) => wrap(detail));
  const title = step.title.padEnd(TITLE_WIDTH);
  return [`${INDENT}${mark} ${title}${first}`, ...rest.map((line) => `${DETAIL_INDENT}${style.dim(line)}`)];
}

export function formatProviderHeading(name: string, label: string, where: string, style: Style): string[] {
  return ['', style.bold(fit(`${name} · ${label}`, 0)), style.dim(fit(where, 0))];
}

export function formatSummary(steps: readonly StepResult[], style: Style): string[] {
  const bad = steps.filter((s) => !s.ok).length;
  const skipped = steps.filter((s) => s.skipped).length;
  const ran = steps.length - skipped;
  const line =
    bad === 0 ? style.ok(`✔ all ${ran} steps behaved`) : style.bad(`✘ ${bad} of ${ran} steps did not behave`);
  return ['', skipped > 0 ? `${line}${style.dim(` (${skipped} skipped: real APIs are not scripted)`)}` : line];
}
