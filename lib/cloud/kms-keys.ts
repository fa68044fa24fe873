/**
 * Data keys from AWS KMS for Secret encryption at rest in the cloud stack
 * (lib/store/encryption.ts, KmsEnvelopeEncryptor): GenerateDataKey (AES_256)
 * for a fresh key, Decrypt to unwrap one read back. The encryption context
 * names the cluster, so a key wrapped for one stack does not open in another.
 */
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { DataKeySource } from '../store/encryption.js';

export function kmsDataKeys(keyId: string, context: Record<string, string>, client: KMSClient = new KMSClient({})): DataKeySource {
  return {
    async generateDataKey() {
      const out = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
      if (!out.Plaintext || !out.CiphertextBlob) throw new Error('KMS GenerateDataKey returned no key');
      return { plaintext: Buffer.from(out.Plaintext), wrapped: Buffer.from(out.CiphertextBlob) };
    },
    async unwrap(wrapped) {
      const out = await client.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: context, KeyId: keyId }));
      if (!out.Plaintext) throw new Error('KMS Decrypt returned no key');
      return Buffer.from(out.Plaintext);
    },
  };
}
