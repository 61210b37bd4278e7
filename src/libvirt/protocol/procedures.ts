/**
 * Program and procedure numbers, from libvirt's remote_protocol.x and qemu_protocol.x. Numbers added after the
 * copy we read (set lifecycle action, compare hypervisor CPU) were checked against libvirt 9.0's own client with
 * LIBVIRT_DEBUG (`proc=` in its RPC trace).
 */

export const REMOTE_PROGRAM = 0x20008086;
export const QEMU_PROGRAM = 0x20008087;

export const RemoteProcedure = {
  connectOpen: 1,
  connectClose: 2,
  connectGetVersion: 4,
  nodeGetInfo: 6,
  connectGetCapabilities: 7,
  domainDestroy: 12,
  domainGetXmlDesc: 14,
  domainLookupByName: 23,
  domainLookupByUuid: 24,
  domainReboot: 27,
  domainResume: 28,
  domainSuspend: 34,
  networkDefineXml: 41,
  networkGetXmlDesc: 43,
  networkLookupByName: 46,
  networkUndefine: 49,
  connectGetHostname: 59,
  connectSupportsFeature: 60,
  authList: 66,
  storagePoolRefresh: 83,
  storagePoolLookupByName: 84,
  nodeGetFreeMemory: 102,
  connectGetLibVersion: 157,
  domainAttachDeviceFlags: 160,
  domainUpdateDeviceFlags: 174,
  domainGetBlockInfo: 194,
  domainCreateWithFlags: 196,
  domainGetState: 212,
  domainUndefineFlags: 231,
  domainDestroyFlags: 234,
  domainBlockJobAbort: 237,
  domainGetBlockJobInfo: 238,
  domainShutdownFlags: 258,
  domainSetMetadata: 264,
  domainGetMetadata: 265,
  connectListAllDomains: 273,
  connectListAllNetworks: 283,
  networkUpdate: 291,
  connectDomainEventCallbackRegisterAny: 316,
  connectDomainEventCallbackDeregisterAny: 317,
  domainEventCallbackLifecycle: 318,
  domainEventCallbackReboot: 319,
  domainEventCallbackBlockJob: 326,
  domainEventBlockJob2: 339,
  connectGetAllDomainStats: 344,
  domainBlockCopy: 345,
  domainDefineXmlFlags: 350,
  domainSetLifecycleAction: 390,
  connectCompareHypervisorCpu: 393,
} as const;

export const QemuProcedure = {
  domainMonitorCommand: 1,
  connectDomainMonitorEventRegister: 4,
  connectDomainMonitorEventDeregister: 5,
  domainMonitorEvent: 6,
} as const;
