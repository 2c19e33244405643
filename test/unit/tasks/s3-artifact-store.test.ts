import {
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { S3ArtifactStore } from '../../../src/adapters/s3/artifact-store';
import { AppError } from '../../../src/errors/app-error';

const body = new TextEncoder().encode('hello');

/** A real client (presigning needs one) whose send never reaches the network. */
function fakeClient() {
  const client = new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  });
  const send = jest.fn(async (_command: unknown): Promise<unknown> => ({}));
  // send is overloaded; the mock stands in for all its forms.
  client.send = send as unknown as S3Client['send'];
  return { client, send };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof AppError ? e.code : String(e)),
  );

describe('S3ArtifactStore', () => {
  it('puts with SSE-S3, the length, type and SHA-256 checksum', async () => {
    const { client, send } = fakeClient();
    const store = new S3ArtifactStore({ client, bucket: 'b', prefix: 'artifacts/' });
    const ref = await store.put({
      key: 'downloads/t/DS1',
      name: 'DS1',
      body,
      contentType: 'text/plain',
    });

    expect(send).toHaveBeenCalledTimes(1);
    const command = send.mock.calls[0]?.[0];
    expect(command).toBeInstanceOf(PutObjectCommand);
    expect((command as PutObjectCommand).input).toEqual({
      Bucket: 'b',
      Key: 'artifacts/downloads/t/DS1',
      Body: body,
      ContentLength: 5,
      ContentType: 'text/plain',
      ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
      ServerSideEncryption: 'AES256',
    });
    expect(ref).toEqual({
      key: 'downloads/t/DS1',
      name: 'DS1',
      size: 5,
      sha256: createHash('sha256').update(body).digest('hex'),
      contentType: 'text/plain',
    });
  });

  it('puts with SSE-KMS when a key is configured', async () => {
    const { client, send } = fakeClient();
    const store = new S3ArtifactStore({ client, bucket: 'b', kmsKeyId: 'arn:aws:kms:k' });
    await store.put({ key: 'k', name: 'k', body });
    expect((send.mock.calls[0]?.[0] as PutObjectCommand).input).toMatchObject({
      Key: 'k',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'arn:aws:kms:k',
    });
  });

  it('gets the bytes of an object', async () => {
    const { client, send } = fakeClient();
    send.mockResolvedValueOnce({ Body: { transformToByteArray: async () => body } });
    const store = new S3ArtifactStore({ client, bucket: 'b' });
    await expect(store.get('downloads/t/DS1')).resolves.toEqual(body);
    const command = send.mock.calls[0]?.[0];
    expect(command).toBeInstanceOf(GetObjectCommand);
    expect((command as GetObjectCommand).input).toEqual({ Bucket: 'b', Key: 'downloads/t/DS1' });
  });

  it('maps NoSuchKey to not_found and passes other errors on', async () => {
    const { client, send } = fakeClient();
    const store = new S3ArtifactStore({ client, bucket: 'b' });
    send.mockRejectedValueOnce(new NoSuchKey({ message: 'gone', $metadata: {} }));
    expect(await codeOf(store.get('k'))).toBe('not_found');
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: {},
      message: 'denied',
    });
    send.mockRejectedValueOnce(denied);
    await expect(store.get('k')).rejects.toBe(denied);
  });

  it('presigns a GET link without calling S3', async () => {
    const { client, send } = fakeClient();
    const store = new S3ArtifactStore({ client, bucket: 'taskwire-art', prefix: 'artifacts/' });
    const link = new URL(await store.link('downloads/t/DS1', 300));
    expect(link.hostname).toBe('taskwire-art.s3.eu-west-1.amazonaws.com');
    expect(link.pathname).toBe('/artifacts/downloads/t/DS1');
    expect(link.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(link.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(send).not.toHaveBeenCalled();
  });

  it('refuses bad keys and ttls before calling S3', async () => {
    const { client, send } = fakeClient();
    const store = new S3ArtifactStore({ client, bucket: 'b' });
    expect(await codeOf(store.put({ key: '../x', name: 'x', body }))).toBe('bad_request');
    expect(await codeOf(store.get('a//b'))).toBe('bad_request');
    expect(await codeOf(store.link('k', 8 * 24 * 3600))).toBe('bad_request');
    expect(send).not.toHaveBeenCalled();
  });
});
