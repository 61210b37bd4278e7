export { exportEmptyImage } from './export-image.js';
export { FakeHost } from './fake-host.js';
export { FakeHypervisor } from './fake-hypervisor.js';
export { FakeSession } from './fake-session.js';
export { type GuestSpec, guestXml, readDomainXml } from './guest-xml.js';
