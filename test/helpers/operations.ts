/** The operations the tests send, written as a client would. */

export const CREATE_KEY = /* GraphQL */ `
  mutation CreateKey($input: CreateKeyInput!) {
    createKey(input: $input) {
      __typename
      ... on CreateKeyPayload {
        clientMutationId
        secret
        key { id name meta expiresAt createdAt identity { id externalId } }
      }
      ... on SecretNotKeptError { key { id } }
      ... on UserError { code message }
    }
  }
`;

export const UPDATE_KEY = /* GraphQL */ `
  mutation UpdateKey($input: UpdateKeyInput!) {
    updateKey(input: $input) {
      __typename
      ... on UpdateKeyPayload { clientMutationId key { id name meta identity { id externalId } } }
      ... on KeyNotFoundError { keyId }
      ... on UserError { code message }
    }
  }
`;

export const CREATE_IDENTITY = /* GraphQL */ `
  mutation CreateIdentity($input: CreateIdentityInput!) {
    createIdentity(input: $input) {
      __typename
      ... on CreateIdentityPayload { clientMutationId identity { id externalId meta createdAt } }
      ... on IdentityAlreadyExistsError { externalId }
      ... on InvalidInputError { field }
      ... on UserError { code message }
    }
  }
`;

export const VERIFY_KEY = /* GraphQL */ `
  query VerifyKey($secret: String!) {
    verifyKey(secret: $secret) { valid key { id name } identity { externalId } }
  }
`;

export const IDEMPOTENCY_RECORD = /* GraphQL */ `
  query Record($key: String!) {
    idempotencyRecord(clientMutationId: $key) { mutation status replayCount createdAt completedAt expiresAt }
  }
`;
