/**
 * The kernel lab's programmatic API (docs/lab.md): a Linux kernel of our own, built from Debian's
 * linux-source package with KVM_SW_PROTECTED_VM, booted under QEMU with one program in a busybox initramfs.
 */
export { labAvailable, labBuildable, labReady, type LabAvailability, type LabReadiness } from './available.ts';
export {
  buildLabKernel,
  ensureLabKernel,
  labKernelPath,
  LAB_SERIES,
  LabBuildError,
  LabInterruptedError,
  type BuiltKernel,
} from './kernelBuild.ts';
export { LabFetchError } from './aptFetch.ts';
export { LabInputError, type LabFile } from './initramfs.ts';
export {
  labExec,
  startLabVm,
  LabVmError,
  type LabExecOptions,
  type LabExecResult,
  type LabVm,
  type LabVmExit,
  type LabVmOptions,
} from './vm.ts';
export { buildSelftests, runSelftests, LAB_SELFTESTS } from './selftests.ts';
export { classifyKvm, parseKvmReport, hostKvmReport, type KvmOffer, type KvmReport } from './kvmCaps.ts';
export { labTool } from './tools.ts';
export { progressRenderer, type LabProgress, type LabProgressEvent } from './progress.ts';
export { labCacheRoot, labLayout } from './paths.ts';
