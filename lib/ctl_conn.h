/*
 * Framing of control-socket messages: a 4-byte big-endian length, then
 * that many bytes of a protobuf message, at most CTL_MAX_FRAME. The
 * server side feeds received bytes to ctl_frame_next(); the client side
 * uses the blocking helpers. Protobuf-agnostic.
 */
#ifndef LIB_CTL_CONN_H
#define LIB_CTL_CONN_H

#include <stddef.h>
#include <stdint.h>

#define CTL_MAX_FRAME (16u << 20)
#define CTL_HDR_LEN   4

/*
 * Looks for a whole frame at buf[0..len). Returns 0 with the message in
 * *msg and *msglen and the bytes it used in *used, -EAGAIN when more bytes
 * are needed, -EMSGSIZE when the announced length is over the cap.
 */
int ctl_frame_next(const uint8_t *buf, size_t len, const uint8_t **msg, size_t *msglen,
		   size_t *used);

/* Writes the 4-byte header for a message of len bytes. */
void ctl_frame_header(uint8_t hdr[CTL_HDR_LEN], size_t len);

/* The group the daemons give their control sockets when it exists. */
#define CTL_GROUP "vmroam"

/*
 * Listens on a UNIX stream socket at path (a file already there is removed),
 * non-blocking and close-on-exec, mode 0660 and, when group names a group,
 * that group (best effort: the process's own when it may not chown) before
 * the first connection can arrive. Returns the fd or -errno.
 */
int ctl_listen(const char *path, const char *group, int backlog);

/* Connects to a UNIX stream socket; returns the fd or -errno. */
int ctl_connect(const char *path);

/* Sends one frame, blocking. Returns 0 or -errno. */
int ctl_send(int fd, const void *msg, size_t len);

/* Receives one frame, blocking: *msg is malloc'd (caller frees). Returns 0, -errno, -EPIPE at EOF. */
int ctl_recv(int fd, uint8_t **msg, size_t *len);

#endif /* LIB_CTL_CONN_H */
