/* The daemons' command line (daemon_args.h). */
#include <unistd.h>

#include "lib/daemon_args.h"
#include "lib/log.h"

void daemon_args_parse(int argc, char **argv, struct daemon_args *a, void (*usage)(void))
{
	int ch;

	while ((ch = getopt(argc, argv, a->allow_state ? "df:nS:s:v" : "df:ns:v")) != -1) {
		switch (ch) {
		case 'd':
			log_set_debug(~0u);
			break;
		case 'f':
			a->conf_path = optarg;
			break;
		case 'n':
			a->check = true;
			break;
		case 's':
			a->ctl_path = optarg;
			break;
		case 'S':
			a->state_path = optarg;
			break;
		case 'v':
			a->verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}
