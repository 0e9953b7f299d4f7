import { validateSync } from 'class-validator';

/** A problem with a client's options, found at boot. */
export interface ConfigIssue {
  field: string;
  problem: string;
}

/**
 * Runs a class-validator schema over a plain options object and reports each bad field once.
 * Only the field name and the rule's message are kept: never the value, which may be a secret.
 */
export function schemaIssues(schema: new () => object, options: object, fieldPrefix = ''): ConfigIssue[] {
  const instance = Object.assign(new schema(), options);
  return validateSync(instance, { forbidUnknownValues: false, validationError: { target: false, value: false } }).map(
    (error) => ({
      field: fieldPrefix + error.property,
      problem: Object.values(error.constraints ?? {})[0] ?? 'is invalid',
    }),
  );
}
