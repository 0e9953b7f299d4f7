export { FakeClock } from './fake-clock.js';
export * from './emulators/index.js';
