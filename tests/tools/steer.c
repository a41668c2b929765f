/*
 * steer: vmroam-virtwatch's steering of a tap (hypervisor-hooks/steer.c),
 * driven from stdin, one command a line, each answered "ok" or "error:
 * why" on stdout:
 *   on TAP VM-MAC FHR-MAC	frames to VM-MAC leaving TAP go to FHR-MAC
 *   through TAP VM-MAC FHR-MAC	those from FHR-MAC itself not (the guest runs again)
 *   off TAP			they reach the guest again
 * The table is the process's: it goes when the process ends (EOF, or a
 * kill), as the watcher's does. Test tool only (netns steer.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hypervisor-hooks/steer.h"

static int mac_parse(const char *s, uint8_t mac[6])
{
	unsigned m[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)m[i];
	}
	return 0;
}

int main(void)
{
	char line[256], cmd[8], tap[64], vm[32], fhr[32];
	struct hv_steer *t;
	int rc = hv_steer_open(&t);

	if (rc < 0) {
		printf("error: %s\n", strerror(-rc));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		uint8_t v[6], f[6];
		int n = sscanf(line, "%7s %63s %31s %31s", cmd, tap, vm, fhr);

		if (n == 4 && strcmp(cmd, "on") == 0 && mac_parse(vm, v) == 0 &&
		    mac_parse(fhr, f) == 0)
			rc = hv_steer_on(t, tap, v, f, false);
		else if (n == 4 && strcmp(cmd, "through") == 0 && mac_parse(vm, v) == 0 &&
			 mac_parse(fhr, f) == 0)
			rc = hv_steer_on(t, tap, v, f, true);
		else if (n == 2 && strcmp(cmd, "off") == 0)
			rc = hv_steer_off(t, tap);
		else
			rc = -EINVAL;
		if (rc < 0)
			printf("error: %s\n", strerror(-rc));
		else
			printf("ok\n");
	}
	hv_steer_close(t);
	return 0;
}
