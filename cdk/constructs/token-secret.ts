/**
 * A bearer token generated at deploy time and kept in Secrets Manager as
 * `{"id": "<id>", "secret": "<48 letters and digits>"}`: the token is
 * `<id>.<secret>` (lib/cloud/secrets.ts reads it, lib/auth/tokens.ts checks
 * it). Nobody sees it unless they may read the secret.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface TokenSecretProps {
  /** The token id (the part before the dot). */
  readonly tokenId: string;
  readonly description: string;
}

export class TokenSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: TokenSecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: props.description,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ id: props.tokenId }),
        generateStringKey: 'secret',
        excludePunctuation: true,
        includeSpace: false,
        passwordLength: 48,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
