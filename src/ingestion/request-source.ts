// Who sent a batch: the SDK and integration named by the batch `metadata` and the
// `x-langfuse-sdk-*` / `x_langfuse_sdk_*` headers, and the tenant whose keys it carried. Plain
// data; knows nothing of HTTP objects. Stored with each log entry (and carried by the gateway's
// Kafka record): it holds the tenant's name, never a secret.

export interface RequestSource {
  sdkName?: string;
  sdkVersion?: string;
  /** `litellm`, `DEFAULT` (JS SDK), … */
  sdkIntegration?: string;
  publicKey?: string;
  /**
   * The tenant (its name in the `tenants:` list) whose key pair authenticated the request. Only set
   * when tenants are configured: then a tenant is a boundary (assembly, ids, export requests).
   */
  tenant?: string;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.replace(/-/g, '_')];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

function field(metadata: unknown, key: string): string | undefined {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return undefined;
  const value = (metadata as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Batch metadata first (the SDKs fill it), headers as the fallback. Header names are lower case. */
export function toRequestSource(batchMetadata: unknown, headers: Headers): RequestSource {
  const source: RequestSource = {};
  const sdkName = field(batchMetadata, 'sdk_name') ?? header(headers, 'x-langfuse-sdk-name');
  const sdkVersion = field(batchMetadata, 'sdk_version') ?? header(headers, 'x-langfuse-sdk-version');
  const sdkIntegration = field(batchMetadata, 'sdk_integration') ?? header(headers, 'x-langfuse-sdk-integration');
  const publicKey = field(batchMetadata, 'public_key') ?? header(headers, 'x-langfuse-public-key');
  if (sdkName) source.sdkName = sdkName.slice(0, 200);
  if (sdkVersion) source.sdkVersion = sdkVersion.slice(0, 200);
  if (sdkIntegration) source.sdkIntegration = sdkIntegration.slice(0, 200);
  if (publicKey) source.publicKey = publicKey.slice(0, 200);
  return source;
}
