/**
 * A stand-in for a secret manager (HashiCorp Vault, AWS Secrets Manager, …): secrets by path, read
 * asynchronously. It counts reads, so the walk-through can show that the library reads a secret
 * for each token request and keeps it nowhere.
 */
export class SecretVault {
  private readonly secrets = new Map<string, string>();
  private readonly readCounts = new Map<string, number>();

  write(path: string, secret: string): void {
    this.secrets.set(path, secret);
  }

  async read(path: string): Promise<string> {
    this.readCounts.set(path, this.reads(path) + 1);
    const secret = this.secrets.get(path);
    if (secret === undefined) throw new Error(`vault: no secret at ${path}`);
    return secret;
  }

  /** How many times `path` was read. */
  reads(path: string): number {
    return this.readCounts.get(path) ?? 0;
  }
}
