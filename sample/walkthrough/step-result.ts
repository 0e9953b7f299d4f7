/** The outcome of one walk-through step, as the report prints it. */
export interface StepResult {
  title: string;
  ok: boolean;
  /** One or two short lines of what happened. */
  details: string[];
  skipped?: boolean;
}

export const passed = (title: string, ...details: string[]): StepResult => ({ title, ok: true, details });
export const failed = (title: string, ...details: string[]): StepResult => ({ title, ok: false, details });
export const skipped = (title: string, why: string): StepResult => ({ title, ok: true, skipped: true, details: [why] });
