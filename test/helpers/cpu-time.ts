// Time spent by this process on the CPU (user + system), in milliseconds. Tests that guard
// against super-linear blow-ups measure it instead of wall time: other processes on a busy
// machine (the other test file the runner runs beside, a build) do not count against it.
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
