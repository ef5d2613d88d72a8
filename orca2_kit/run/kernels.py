"""The kernels the runner executes notebooks in: local IPC sockets, and figures drawn inline."""
from __future__ import annotations

import os

# matplotlib's inline backend, which the kernel otherwise picks itself unless MPLBACKEND says another
# (MPLBACKEND=Agg, set for headless scripts and CI, would leave every executed notebook without figures)
INLINE = "module://matplotlib_inline.backend_inline"


def ipc_kernel_manager():
    """A kernel manager that talks to the kernel over local IPC sockets (in Jupyter's runtime folder)
    instead of TCP ports on loopback: nothing else on the machine can connect to the kernel, and the
    kernel does not warn, in every executed notebook, that its TCP traffic is unencrypted. The kernel
    draws figures inline whatever MPLBACKEND the runner was started with."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class IPCKernelManager(AsyncKernelManager):
        @default("transport")
        def _transport_default(self):
            return "ipc"

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            kw["env"] = {**(kw.get("env") or os.environ), "MPLBACKEND": INLINE}
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return IPCKernelManager
