/*
 * monitor.h - hcsmon: the one process that owns a compute system.
 *
 * The library execs hcsmon (never a bare fork in the caller), which detaches, becomes a child
 * subreaper, creates the job and the silo, records the state in the runtime root and serves the
 * control socket <runtime root>/systems/<id>/ctl.sock until the system has stopped and its last
 * client has gone; then it removes everything and exits.
 *
 * Control protocol (lib/rpc messages; every request gets one reply, events go to every client):
 *   Properties {PropertyTypes}            -> {Properties: <Properties document>}
 *   Start | Pause | Resume                -> reply when done
 *   Shutdown {GracePeriodSeconds} | Terminate -> reply once the system has stopped
 *   Modify {Request: ModifySettingRequest}
 *   CreateProcess {Parameters, Stdio: [...]} + fds -> {Pid} (+ console fd)
 *   Signal {Pid, Signal} | Resize {Pid, Height, Width} | CloseStdin {Pid}
 *   ProcessStatus {Pid}                   -> {Status: ProcessStatus}
 *   event SystemExited {Status: SystemExitStatus}
 *   event ProcessExited {Status: ProcessStatus}
 */
#ifndef HCS_MONITOR_MONITOR_H
#define HCS_MONITOR_MONITOR_H

/*
 * Run the monitor of system id (its folder exists; lock_fd holds its lock). Reports the outcome
 * of the creation as one JSON line {"Result": hr, "Error": "..."} on status_fd, then serves.
 * Returns the process exit status.
 */
int hcs_monitor_run(const char *id, int lock_fd, int status_fd);

#endif
