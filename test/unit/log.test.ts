import { afterEach, describe, expect, it, vi } from 'vitest';
import { log } from '../../shared/http/log';

describe('log', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('hands Lambda one object per line, through the console method of its level (JSON log format)', () => {
    vi.stubEnv('LOG_LEVEL', 'info');
    vi.stubEnv('AWS_LAMBDA_LOG_FORMAT', 'JSON');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    log('warn', 'store busy', { attempts: 8 });
    expect(warn).toHaveBeenCalledWith({ message: 'store busy', attempts: 8 });
  });

  it('writes one JSON line elsewhere (the local runner)', () => {
    vi.stubEnv('LOG_LEVEL', 'info');
    vi.stubEnv('AWS_LAMBDA_LOG_FORMAT', '');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    log('error', 'unhandled error', { errorName: 'TypeError' });
    expect(JSON.parse(error.mock.calls[0]![0] as string)).toMatchObject({ level: 'error', message: 'unhandled error', errorName: 'TypeError' });
  });

  it('says nothing when silenced', () => {
    vi.stubEnv('LOG_LEVEL', 'silent');
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const plain = vi.spyOn(console, 'log').mockImplementation(() => {});
    log('info', 'quiet');
    expect(info).not.toHaveBeenCalled();
    expect(plain).not.toHaveBeenCalled();
  });
});
