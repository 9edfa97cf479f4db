/* notify.h: tell systemd how the service is doing (sd_notify's datagram protocol, a
 * dozen lines of libc rather than a dependency on libsystemd). */
#ifndef IC_NOTIFY_H
#define IC_NOTIFY_H

/* Send msg ("READY=1", "STOPPING=1", ...) to the socket named by $NOTIFY_SOCKET.
 * Returns 1 when sent, 0 when no service manager asked for it (the variable is unset),
 * -EINVAL for a name that is not a path or an abstract "@name", or another negative
 * errno when the socket cannot be reached. */
int notify_send(const char *msg);

#endif
