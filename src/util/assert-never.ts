// For switches over closed unions: a member that a switch forgets makes its default branch
// reachable, so it no longer type-checks against `never`.
export function assertNever(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
