// Builds SET / REMOVE / ADD update expressions with a placeholder for every name and value.

export interface UpdateExpressionParts {
  readonly UpdateExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

export class UpdateExpressionBuilder {
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly adds: string[] = [];
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};

  /** `alias` names the placeholders where the attribute's own name cannot (`used@<period>` becomes `#used`). */
  set(attribute: string, value: unknown, alias = attribute): this {
    this.sets.push(`${this.name(attribute, alias)} = ${this.value(alias, value)}`);
    return this;
  }

  setIfNotExists(attribute: string, value: unknown, alias = attribute): this {
    const name = this.name(attribute, alias);
    this.sets.push(`${name} = if_not_exists(${name}, ${this.value(alias, value)})`);
    return this;
  }

  remove(attribute: string, alias = attribute): this {
    this.removes.push(this.name(attribute, alias));
    return this;
  }

  add(attribute: string, value: number, alias = attribute): this {
    this.adds.push(`${this.name(attribute, alias)} ${this.value(alias, value)}`);
    return this;
  }

  /**
   * Bumps the org's config version, which every consume conditions on. Its own placeholders, so that a condition on
   * the expected version (`:configVersion`) can sit beside it.
   */
  bumpConfigVersion(): this {
    return this.add('configVersion', 1, 'configVersionStep');
  }

  build(): UpdateExpressionParts {
    const clauses = [
      this.adds.length ? `ADD ${this.adds.join(', ')}` : '',
      this.sets.length ? `SET ${this.sets.join(', ')}` : '',
      this.removes.length ? `REMOVE ${this.removes.join(', ')}` : '',
    ].filter(Boolean);
    return {
      UpdateExpression: clauses.join(' '),
      ExpressionAttributeNames: { ...this.names },
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: { ...this.values } } : {}),
    };
  }

  private name(attribute: string, alias: string): string {
    this.names[`#${alias}`] = attribute;
    return `#${alias}`;
  }

  private value(alias: string, value: unknown): string {
    this.values[`:${alias}`] = value;
    return `:${alias}`;
  }
}
