/**
 * Live groups for a user pool in another region than the function: Cognito answers a pool only in its own
 * region, so the call must go (and be signed) there.
 */
import type { AwsJsonCall } from '../../common/aws';
import { cognitoGroupSource } from '../../lambda/live-groups';

describe('Function: cognitoGroupSource — the pool region', () => {
  const recordingCall = (seen: AwsJsonCall[]) => async (c: AwsJsonCall) => {
    seen.push(c);
    return { Groups: [{ GroupName: 'admins' }] };
  };

  it.each([
    ['eu-central-1_AbCdEf123', 'eu-central-1'],
    ['us-gov-west-1_AbCdEf123', 'us-gov-west-1'],
  ])('calls Cognito in the region of pool %s', async (userPoolId, region) => {
    // Prepare
    const seen: AwsJsonCall[] = [];
    const source = cognitoGroupSource({ userPoolId, call: recordingCall(seen) });

    // Act
    await expect(source.groupsOf('alice')).resolves.toEqual(['admins']);

    // Assess
    expect(seen.map((c) => c.region)).toEqual([region]);
  });

  it('falls back to the function region for an id without a region prefix', async () => {
    const seen: AwsJsonCall[] = [];
    await cognitoGroupSource({ userPoolId: 'p', call: recordingCall(seen) }).groupsOf('alice');
    expect(seen[0]?.region).toBeUndefined();
  });
});
