/**
 * `${path}` templates as InfluxDB's check and rule messages use them:
 * `${check.name} is ${level}: ${value}`. Unknown paths render as empty strings;
 * nothing is evaluated, so a template can never run code.
 */
export function renderTemplate(template: string, context: Record<string, unknown>): string {
  return template.replace(/\$\{\s*([\w.[\]-]+)\s*\}/g, (_, path: string) => {
    const value = valueAt(context, path);
    if (value === undefined || value === null) return '';
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

/** Reads `a.b[0].c` from a JSON value. */
export function valueAt(root: unknown, path: string): unknown {
  const parts = path
    .replace(/^\$\.?/, '')
    .split(/\.|\[(\d+)\]/)
    .filter((part) => part !== undefined && part !== '');
  let current: unknown = root;
  for (const part of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}
