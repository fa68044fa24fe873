/**
 * Global test setup: nothing is started here yet; backends that need an
 * emulator start it in their own setup (see test/helpers/moto.ts).
 */
export default async function setup(): Promise<void> {}
