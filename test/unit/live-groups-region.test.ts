/**
 * Live groups for a user pool in another region than the function: Cognito answers a pool only in its own
 * region, so the call must go (and be signed) there.
 */
import type { AwsJsonCall } from '../../common/aws';
import { cognitoGroupSource } from '../../lambda/live-groups';

describe('Function: cognitoGroupSource — the pool region', () => {
  const SUB = '0a11ce00-0000-4000-a000-000000000001';
  const recordingCall = (seen: AwsJsonCall[]) => async (c: AwsJsonCall) => {
    seen.push(c);
    return c.operation === 'ListUsers'
      ? { Users: [{ Username: 'alice', Attributes: [{ Name: 'sub', Value: SUB }] }] }
      : { Groups: [{ GroupName: 'admins' }] };
  };

  it.each([
    ['eu-central-1_AbCdEf123', 'eu-central-1'],
    ['us-gov-west-1_AbCdEf123', 'us-gov-west-1'],
  ])('calls Cognito in the region of pool %s', async (userPoolId, region) => {
    // Prepare
    const seen: AwsJsonCall[] = [];
    const source = cognitoGroupSource({ userPoolId, call: recordingCall(seen) });

    // Act
    await expect(source.groupsOf(SUB)).resolves.toEqual(['admins']);

    // Assess: both calls, the user by sub and its groups
    expect(seen.map((c) => [c.operation, c.region])).toEqual([
      ['ListUsers', region],
      ['AdminListGroupsForUser', region],
    ]);
  });

  it('falls back to the function region for an id without a region prefix', async () => {
    const seen: AwsJsonCall[] = [];
    await cognitoGroupSource({ userPoolId: 'p', call: recordingCall(seen) }).groupsOf(SUB);
    expect(seen.map((c) => c.region)).toEqual([undefined, undefined]);
  });
});
