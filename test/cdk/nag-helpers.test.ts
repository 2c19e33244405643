import { flattenCfnReference } from '../../lib/nag';

describe('flattenCfnReference', () => {
  it.each([
    ['a plain string', '*', '*'],
    ['undefined', undefined, ''],
    ['a Ref', { Ref: 'Table' }, '<Table>'],
    ['a GetAtt', { 'Fn::GetAtt': ['Bucket', 'Arn'] }, '<Bucket.Arn>'],
    [
      'a Join of both',
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/*']] },
      '<Bucket.Arn>/*',
    ],
    [
      'a Join with a delimiter',
      { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 'sns']] },
      'arn:<AWS::Partition>:sns',
    ],
    ['a Sub', { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::b' }, 'arn:<AWS::Partition>:s3:::b'],
    ['an ImportValue', { 'Fn::ImportValue': 'Shared' }, 'Shared'],
    ['anything else as JSON', { 'Fn::If': ['C', 'a', 'b'] }, '{"Fn::If":["C","a","b"]}'],
  ])('flattens %s as cdk-nag writes finding ids', (_what, value, expected) => {
    // Prepare / Act
    const flat = flattenCfnReference(value);
    // Assess
    expect(flat).toBe(expected);
  });
});
