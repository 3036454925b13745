/**
 * Opens a WebGPU device through Dawn's Node bindings (`webgpu` on npm), loaded only here, on first
 * call, so that a server with QATOM_GPU=off never loads Dawn. Backends: Dawn's default (Vulkan on
 * Linux, Metal, D3D12) first; then OpenGL ES, which on a machine without a GPU is Mesa's llvmpipe,
 * a software adapter (TECH-NOTES: `EGL_PLATFORM=surfaceless`, `featureLevel: "compatibility"`,
 * and 256 invocations per workgroup requested; the thread that starts this one sets
 * EGL_PLATFORM, as a worker thread's environment does not reach native code).
 */
import type {} from "webgpu";

/** An opened device and what it is. */
export interface OpenedDevice {
  device: GPUDevice;
  /** The adapter in words: vendor, architecture, device, description, backend. */
  description: string;
  /** A software rasteriser (llvmpipe, lavapipe, SwiftShader): correct, but no faster than the CPU. */
  software: boolean;
  /** Largest storage buffer binding in bytes (rows per segment follow from it). */
  maxBinding: number;
}

/**
 * Every Dawn instance created stays referenced for the life of the process: one collected while
 * another's device was in use crashed the process (Dawn's OpenGL ES backend on Mesa).
 */
const instances: GPU[] = [];

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/**
 * Requests an adapter and a device, trying Dawn's default backend and then OpenGL ES.
 * @returns the device, or why none could be had (no adapter, or Dawn failed to load).
 */
export async function openDevice(): Promise<OpenedDevice | { error: string }> {
  let dawn: { create(options: string[]): GPU; globals: object };
  try {
    dawn = require("webgpu");
  } catch (err) {
    return { error: `Dawn's Node bindings did not load: ${(err as Error).message}` };
  }
  Object.assign(globalThis, dawn.globals);
  const attempts: { backend: string; options: string[]; request: GPURequestAdapterOptions }[] = [
    { backend: "default", options: [], request: { powerPreference: "high-performance" } },
    { backend: "opengles", options: ["backend=opengles"], request: { featureLevel: "compatibility" } as GPURequestAdapterOptions },
  ];
  const tried: string[] = [];
  for (const a of attempts) {
    let adapter: GPUAdapter | null = null;
    try {
      const instance = dawn.create(a.options);
      instances.push(instance);
      adapter = await instance.requestAdapter(a.request);
    } catch (err) {
      tried.push(`${a.backend}: ${(err as Error).message}`);
      continue;
    }
    if (!adapter) {
      tried.push(`${a.backend}: no adapter`);
      continue;
    }
    const info = adapter.info;
    const words = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length > 0);
    const description = `${words.join(" ") || "unnamed adapter"} (${a.backend === "default" ? "Dawn's default backend" : "OpenGL ES"})`;
    try {
      const device = await adapter.requestDevice({
        requiredLimits: {
          maxComputeWorkgroupSizeX: 256,
          maxComputeInvocationsPerWorkgroup: 256,
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
        },
      });
      return {
        device,
        description,
        software: SOFTWARE.test(description) || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true,
        maxBinding: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize),
      };
    } catch (err) {
      tried.push(`${a.backend}: ${description}: no device: ${(err as Error).message}`);
    }
  }
  return { error: `no WebGPU adapter (${tried.join("; ")})` };
}
