/**
 * The package's entry point (`momento-token-vending-machine`): the `TokenVendingMachine` construct, its props
 * and parts, and the policy's types and validation. See docs/construct-library.md.
 */
export { TokenVendingMachine, AUTHORIZATION_VALIDATION_REGEX, vendingTimeoutSeconds } from './token-vending-machine';
export type { TokenVendingMachineProps, TvmDomainProps, TvmLogLevel, TvmThrottlingProps, TvmWafProps } from './props';
export { TvmMonitoring, type TvmMonitoringProps } from './monitoring';
export { TvmWebAcl, type TvmWebAclProps } from './web-acl';
export { ApiGatewayAccountRole, type ApiGatewayAccountRoleProps } from './api-gateway-account-role';
export { RevocationTable, type RevocationTableProps } from './revocation';
export {
  ConfigError,
  DEPLOYMENT_SETTING_PROPS,
  defineConfig,
  definePolicy,
  policyOf,
  validateConfig,
  validatePolicy,
  type AuthConfig,
  type CachePermission,
  type Permission,
  type PolicyConfig,
  type ResolvedConfig,
  type ResolvedPolicy,
  type Tier,
  type TopicPermission,
  type TvmConfig,
} from '../config/schema';
