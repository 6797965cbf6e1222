import type { APIGatewayProxyEvent } from "aws-lambda";

/** A REST API proxy event as API Gateway delivers it, with what a test sets on top. */
export function apiGatewayEvent(overrides: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent {
  const path = overrides.path ?? "/generations";
  const resource = overrides.resource ?? "/generations";
  return {
    body: null,
    headers: {},
    multiValueHeaders: {},
    httpMethod: "GET",
    isBase64Encoded: false,
    path,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    resource,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      authorizer: undefined,
      protocol: "HTTP/1.1",
      httpMethod: overrides.httpMethod ?? "GET",
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: "203.0.113.7",
        user: null,
        userAgent: "vitest",
        userArn: null,
      },
      path: `/prod${path}`,
      stage: "prod",
      requestId: "request-1",
      requestTimeEpoch: 0,
      resourceId: "res1",
      resourcePath: resource,
    },
    ...overrides,
  };
}
