import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBrowserPlatform } from './browser';
import { getPlatform, isDesktop } from './index';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('browser platform', () => {
  it('is chosen when the Tauri bridge is absent', () => {
    expect(isDesktop()).toBe(false);
    expect(getPlatform().kind).toBe('browser');
  });

  it('opens files through a hidden <input type=file> with the extensions as accept', async () => {
    const platform = createBrowserPlatform();
    const clicked = vi.spyOn(HTMLInputElement.prototype, 'click').mockImplementation(function (this: HTMLInputElement) {
      expect(this.accept).toBe('.dxf,.dwg');
      const file = new File(['0\nSECTION'], 'plan.dxf');
      Object.defineProperty(this, 'files', { value: [file] });
      this.dispatchEvent(new Event('change'));
    });
    const [picked] = await platform.openFiles({ extensions: ['dxf', 'dwg'] });
    expect(clicked).toHaveBeenCalledOnce();
    expect(picked?.name).toBe('plan.dxf');
    expect(picked?.path).toBeNull();
    expect(await (await picked?.read())?.text()).toBe('0\nSECTION');
    expect(document.querySelector('input[type=file]')).toBeNull();
  });

  it('hands over files dropped on the target and stops after unsubscribing', () => {
    const platform = createBrowserPlatform();
    const target = document.createElement('div');
    const onDrop = vi.fn();
    const stop = platform.onFileDrop(target, onDrop);
    const drop = (name: string) => {
      const event = new Event('drop', { cancelable: true });
      Object.defineProperty(event, 'dataTransfer', { value: { files: [new File(['x'], name)], types: ['Files'] } });
      target.dispatchEvent(event);
      return event;
    };
    expect(drop('a.dxf').defaultPrevented).toBe(true);
    stop();
    drop('b.dxf');
    expect(onDrop).toHaveBeenCalledTimes(1);
    expect((onDrop.mock.calls[0]?.[0] as { name: string }[])[0]?.name).toBe('a.dxf');
  });

  it('notifies only with permission', async () => {
    const shown: string[] = [];
    // A stand-in for the Notification constructor and its static permission.
    // eslint-disable-next-line @typescript-eslint/no-extraneous-class
    class FakeNotification {
      static permission = 'denied';
      constructor(title: string) {
        shown.push(title);
      }
    }
    vi.stubGlobal('Notification', FakeNotification);
    const platform = createBrowserPlatform();
    await platform.notify('Task #1 finished');
    expect(shown).toEqual([]);
    FakeNotification.permission = 'granted';
    await platform.notify('Task #2 finished');
    expect(shown).toEqual(['Task #2 finished']);
  });
});
