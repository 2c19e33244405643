import { FUNCTIONS } from '../../lambdas/catalog';
import type { HttpRouteSpec } from '../../lambdas/http/routes';
import { httpRouteAuth, httpRouteAuthReason } from '../../lib/constructs/http-route-auth';

describe('HTTP route authentication', () => {
  const adminFn = FUNCTIONS.httpApi;

  it.each([
    [{ method: 'GET', path: '/healthz', fn: 'httpApi' }, 'public'],
    [{ method: 'POST', path: '/wecom/callback', fn: 'wecomCallback' }, 'wecomSignature'],
    [{ method: 'GET', path: '/wecom/bot', fn: 'wecomBot' }, 'wecomSignature'],
    [{ method: 'POST', path: '/wecom/bot', fn: 'wecomBot' }, 'wecomSignature'],
    [{ method: 'POST', path: '/broadcast', fn: 'httpApi' }, 'adminToken'],
    [{ method: 'GET', path: '/tasks/{taskId}', fn: 'httpApi' }, 'adminToken'],
  ] as [HttpRouteSpec, string][])('classifies %o as %s', (route, expected) => {
    // Prepare / Act
    const auth = httpRouteAuth(route);
    // Assess
    expect(auth).toBe(expected);
  });

  it('refuses an admin route whose function cannot verify tokens', () => {
    // Prepare
    const route: HttpRouteSpec = { method: 'POST', path: '/broadcast', fn: 'wsConnect' };
    // Act
    const act = () => httpRouteAuthReason(route, { ...adminFn, needs: ['connections:read'] });
    // Assess
    expect(act).toThrow(/authSecret/);
  });

  it('refuses a WeCom route whose function cannot verify signatures', () => {
    // Prepare
    const route: HttpRouteSpec = { method: 'POST', path: '/wecom/callback', fn: 'httpApi' };
    // Act
    const act = () => httpRouteAuthReason(route, adminFn);
    // Assess
    expect(act).toThrow(/wecomSecret/);
  });

  it('accepts the bot callback, whose function verifies with the bot secret', () => {
    // Prepare
    const route: HttpRouteSpec = { method: 'POST', path: '/wecom/bot', fn: 'wecomBot' };
    // Act
    const reason = httpRouteAuthReason(route, FUNCTIONS.wecomBot);
    // Assess
    expect(FUNCTIONS.wecomBot.needs).toContain('wecomBotSecret');
    expect(FUNCTIONS.wecomBot.needs).not.toContain('wecomSecret');
    expect(reason).toMatch(/msg_signature/);
  });
});
