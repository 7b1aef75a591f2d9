/** The REST API: CORS preflight, problem+json gateway responses, stage throttling and logging. */
import { Match } from 'aws-cdk-lib/assertions';
import { corsHeaders, preflightResponse } from '../../lambda/http';
import { PROBLEM_GATEWAY_RESPONSES, gatewayAllowOrigin, problemResponseBody } from '../../lib/gateway-responses';
import { MODES, TEST_ENV, onlyResource, resourcesOf, synth } from './helpers';

interface GatewayResponseProps {
  ResponseType: string;
  StatusCode?: string;
  ResponseParameters: Record<string, string>;
  ResponseTemplates: Record<string, string>;
}
const gatewayResponses = (s: ReturnType<typeof synth>) =>
  new Map(
    resourcesOf(s.template, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [
      (r.Properties as unknown as GatewayResponseProps).ResponseType,
      r.Properties as unknown as GatewayResponseProps,
    ]),
  );

describe('Construct: TokenVendingMachine — CORS preflight', () => {
  it('answers OPTIONS /token from a mock integration and echoes only listed origins (several origins)', () => {
    const s = synth(MODES.open); // http://localhost:5173 and https://app.example.com
    const options = resourcesOf(s.template, 'AWS::ApiGateway::Method').filter(
      ([, r]) => r.Properties?.HttpMethod === 'OPTIONS',
    );
    expect(options).toHaveLength(1);
    const props = options[0]?.[1].Properties as {
      AuthorizationType: string;
      Integration: {
        Type: string;
        IntegrationResponses: {
          ResponseParameters: Record<string, string>;
          ResponseTemplates: Record<string, string>;
        }[];
      };
    };
    expect(props.AuthorizationType).toBe('NONE');
    expect(props.Integration.Type).toBe('MOCK');
    const [response] = props.Integration.IntegrationResponses;
    expect(response?.ResponseParameters).toEqual({
      'method.response.header.Access-Control-Allow-Origin': "'http://localhost:5173'",
      'method.response.header.Access-Control-Allow-Headers': "'Authorization,Content-Type'",
      'method.response.header.Access-Control-Allow-Methods': "'GET,OPTIONS'",
      'method.response.header.Access-Control-Max-Age': "'3600'",
      'method.response.header.Vary': "'Origin'",
    });
    // The default is the first origin; the template overrides it only for another listed origin.
    const vtl = response?.ResponseTemplates['application/json'] ?? '';
    expect(vtl).toContain('#if($origin == "https://app.example.com")');
    expect(vtl).toContain('#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)');
    expect(vtl).not.toContain('http://localhost:5173"'); // the default needs no branch
  });

  // One source (common/cors.ts), two answerers: the stack's mock and the dev server's preflightResponse must agree.
  it('the preflight mock sends the headers lambda/http.ts preflightResponse sends (the dev server)', () => {
    const s = synth(MODES.cognito); // one origin: https://app.example.com
    const [[, options] = []] = resourcesOf(s.template, 'AWS::ApiGateway::Method').filter(
      ([, r]) => r.Properties?.HttpMethod === 'OPTIONS',
    );
    const integration = options?.Properties?.Integration as {
      IntegrationResponses: { ResponseParameters: Record<string, string> }[];
    };
    const stack = Object.fromEntries(
      Object.entries(integration.IntegrationResponses[0]!.ResponseParameters).map(([k, v]) => [
        k.replace('method.response.header.', ''),
        v.replace(/^'|'$/g, ''),
      ]),
    );
    const origin = 'https://app.example.com';
    const dev = preflightResponse(origin, new Set([origin])).headers as Record<string, string>;
    // The function's own CORS headers (Expose-Headers) ride on every answer; a preflight needs only the rest.
    const { 'Access-Control-Expose-Headers': exposed, ...devPreflight } = dev;
    expect(stack).toEqual(devPreflight);
    // ...and the gateway's problem answers expose what the function's answers expose.
    expect(exposed).toBe(corsHeaders(origin, new Set([origin]))['Access-Control-Expose-Headers']);
    for (const r of gatewayResponses(s).values())
      expect(r.ResponseParameters['gatewayresponse.header.Access-Control-Expose-Headers']).toBe(`'${exposed}'`);
  });

  it('needs no template with a single origin', () => {
    const s = synth(MODES.cognito);
    s.template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: {
        IntegrationResponses: [
          Match.objectLike({
            ResponseParameters: Match.objectLike({
              'method.response.header.Access-Control-Allow-Origin': "'https://app.example.com'",
            }),
            ResponseTemplates: Match.absent(),
          }),
        ],
      },
    });
  });

  it('exposes only GET and OPTIONS on /token', () => {
    const s = synth(MODES.cognito);
    const methods = resourcesOf(s.template, 'AWS::ApiGateway::Method').map(([, r]) => r.Properties?.HttpMethod);
    expect(methods.sort()).toEqual(['GET', 'OPTIONS']);
    s.template.resourceCountIs('AWS::ApiGateway::Resource', 1);
    s.template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'token' });
  });
});

describe('Construct: TokenVendingMachine — gateway responses', () => {
  it.each([
    ['UNAUTHORIZED', '401', 'unauthorized'],
    ['ACCESS_DENIED', '403', 'access-denied'],
    ['THROTTLED', '429', 'throttled'],
    ['WAF_FILTERED', '403', 'blocked'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'not-found'],
    ['INTEGRATION_TIMEOUT', '504', 'timeout'],
  ])('%s answers %s problem+json with code "%s" and CORS for the single origin', (type, status, code) => {
    const r = gatewayResponses(synth(MODES.cognito)).get(type);
    expect(r?.StatusCode).toBe(status);
    expect(r?.ResponseParameters).toMatchObject({
      'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'",
      'gatewayresponse.header.Vary': "'Origin'",
      'gatewayresponse.header.Content-Type': "'application/problem+json'",
      'gatewayresponse.header.Cache-Control': "'no-store'",
    });
    expect(r?.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Credentials']).toBeUndefined();
    const body = JSON.parse(
      (r?.ResponseTemplates['application/json'] ?? '').replace('$context.requestId', 'req-1'),
    ) as Record<string, unknown>;
    expect(body).toEqual(
      expect.objectContaining({ type: 'about:blank', status: Number(status), code, requestId: 'req-1' }),
    );
  });

  it.each(['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR'])(
    '%s (the authorizer threw anything but "Unauthorized") answers 503 authorizer-unavailable with Retry-After and CORS',
    (type) => {
      // Prepare: the mode whose TOKEN authorizer reads an API-key table from Secrets Manager.
      const s = synth(MODES.authorizerApiKeys);
      s.template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
      s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN' });
      // Act
      const r = gatewayResponses(s).get(type);
      // Assess
      expect(r?.StatusCode).toBe('503');
      expect(r?.ResponseParameters).toEqual({
        'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'",
        'gatewayresponse.header.Access-Control-Expose-Headers': "'Retry-After'",
        'gatewayresponse.header.Vary': "'Origin'",
        'gatewayresponse.header.Content-Type': "'application/problem+json'",
        'gatewayresponse.header.Cache-Control': "'no-store'",
        'gatewayresponse.header.Retry-After': "'1'",
      });
      const body = JSON.parse(
        (r?.ResponseTemplates['application/json'] ?? '').replace('$context.requestId', 'req-1'),
      ) as Record<string, unknown>;
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Service Unavailable',
        status: 503,
        code: 'authorizer-unavailable',
        detail: 'the credentials could not be checked right now; retry shortly',
        requestId: 'req-1',
      });
    },
  );

  it('keeps API Gateway’s status for the DEFAULT_4XX / DEFAULT_5XX families, with CORS and a problem body', () => {
    const responses = gatewayResponses(synth(MODES.cognito));
    for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX']) {
      const r = responses.get(type);
      expect(r?.StatusCode).toBeUndefined();
      expect(r?.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin']).toBe(
        "'https://app.example.com'",
      );
      // API Gateway's message is substituted as an already-quoted JSON string.
      const body = (r?.ResponseTemplates['application/json'] ?? '')
        .replace('$context.error.messageString', '"Missing Authentication Token"')
        .replace('$context.requestId', 'r');
      expect(JSON.parse(body)).toEqual(
        expect.objectContaining({ type: 'about:blank', detail: 'Missing Authentication Token' }),
      );
    }
  });

  it('sends Retry-After on THROTTLED (and the integration timeout), and lets scripts read it', () => {
    const responses = gatewayResponses(synth(MODES.cognito));
    expect(responses.get('THROTTLED')?.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'1'");
    expect(responses.get('INTEGRATION_TIMEOUT')?.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'2'");
    expect(responses.get('UNAUTHORIZED')?.ResponseParameters['gatewayresponse.header.Retry-After']).toBeUndefined();
    expect(responses.get('THROTTLED')?.ResponseParameters['gatewayresponse.header.Access-Control-Expose-Headers']).toBe(
      "'Retry-After'",
    );
  });

  it('echoes the request Origin when several origins are allowed (bodies are fixed; no credentials header)', () => {
    const responses = gatewayResponses(synth(MODES.open));
    expect(responses.size).toBe(PROBLEM_GATEWAY_RESPONSES.length);
    for (const r of responses.values()) {
      expect(r.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Origin']).toBe(
        'method.request.header.Origin',
      );
      expect(r.ResponseParameters['gatewayresponse.header.Vary']).toBe("'Origin'");
      expect(r.ResponseParameters['gatewayresponse.header.Access-Control-Allow-Credentials']).toBeUndefined();
    }
  });

  it('builds bodies that are valid JSON for every response', () => {
    for (const r of PROBLEM_GATEWAY_RESPONSES) {
      const body = problemResponseBody(r)
        .replace('$context.error.messageString', '"m"')
        .replace('$context.requestId', 'r');
      expect(() => JSON.parse(body)).not.toThrow();
    }
    expect(() => gatewayAllowOrigin([])).toThrow(/no origin/);
  });
});

describe('Construct: TokenVendingMachine — stage', () => {
  const s = synth(MODES.cognito);

  it('throttles every method from config, logs errors only and never data trace', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        }),
      ],
      TracingEnabled: false,
    });
  });

  it('uses the configured throttling and tracing', () => {
    const custom = synth({ ...MODES.cognito, throttling: { rateLimit: 3, burstLimit: 7 }, tracing: true });
    custom.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 3, ThrottlingBurstLimit: 7 })],
      TracingEnabled: true,
    });
  });

  it('writes JSON access logs to a month-long log group, retained except on a failed create, without the Authorization header', () => {
    const [, stage] = onlyResource(s.template, 'AWS::ApiGateway::Stage');
    const setting = stage?.Properties?.AccessLogSetting as {
      DestinationArn: { 'Fn::Join': [string, [string, { Ref: string }]] };
      Format: string;
    };
    const format = JSON.parse(setting.Format) as Record<string, string>;
    expect(format).toEqual(
      expect.objectContaining({
        requestId: '$context.requestId',
        status: '$context.status',
        principalId: '$context.authorizer.claims.sub',
      }),
    );
    expect(setting.Format.toLowerCase()).not.toMatch(/authorization|header\.|requestoverride|\$input/);
    // The log group ARN without the trailing ":*" (feature flag @aws-cdk/aws-apigateway:logGroupDestinationArnWithoutWildcard).
    const [prefix, { Ref: logGroupId }] = setting.DestinationArn['Fn::Join'][1];
    expect(prefix).toBe(`arn:aws:logs:${TEST_ENV.region}:${TEST_ENV.account}:log-group:`);
    expect(s.template.toJSON().Resources[logGroupId]).toEqual(
      expect.objectContaining({
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: 'RetainExceptOnCreate',
        UpdateReplacePolicy: 'Retain',
      }),
    );
  });

  it('is a regional endpoint and outputs the token URL', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    s.template.hasOutput('TokenUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            { Ref: Match.stringLikeRegexp('Api') },
            Match.stringLikeRegexp('execute-api'),
            { Ref: 'AWS::URLSuffix' },
            '/',
            { Ref: Match.stringLikeRegexp('DeploymentStage') },
            '/token',
          ],
        ],
      },
    });
  });

  it('never writes AWS::ApiGateway::Account (it would overwrite a role other APIs use)', () => {
    s.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});
