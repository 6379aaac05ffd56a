// Request headers by name, whatever their case: HTTP APIs hand names in lower case, REST APIs as the client sent
// them, tests as they were written.

export function headerValue(headers: Readonly<Record<string, string | undefined>> | null | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(headers ?? {}).find(([header]) => header.toLowerCase() === wanted)?.[1];
}
