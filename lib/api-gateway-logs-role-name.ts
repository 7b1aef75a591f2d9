/**
 * The role the account-role custom resource creates when the account has none: shared by the handler and the
 * construct (which grants the handler IAM actions on exactly this role). No AWS SDK here: the construct loads it.
 */

/** Name of the role (IAM is global: one role for every region of the account). */
export const ROLE_NAME = 'ApiGatewayCloudWatchLogs';

/** Path of the role. */
export const ROLE_PATH = '/service-role/';

/** The AWS managed policy API Gateway documents for the role (its ARN after `arn:<partition>:`). */
export const PUSH_TO_LOGS_POLICY = 'iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs';
