/*
 * stallmeter: what a download looked like to its reader. Reads stdin to
 * the end (e.g. `curl -s URL | stallmeter`), and prints one JSON object:
 * bytes, SHA-256, first and last read (unix time), the largest gap between
 * two reads and when it began, and every gap of at least THRESHOLD-MS
 * (default 50) as [start, seconds]. Test tool only.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 16];
	double threshold = (argc > 1 ? atof(argv[1]) : 50) / 1000, first = 0, last = 0;
	double max_gap = 0, max_at = 0, gaps[256][2];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	unsigned long long bytes = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t ngaps = 0;
	ssize_t r;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		return 1;
	while ((r = read(0, buf, sizeof(buf))) > 0) {
		double t = now();

		if (!bytes)
			first = t;
		else if (t - last > max_gap)
			max_gap = t - last, max_at = last;
		if (bytes && t - last >= threshold && ngaps < 256) {
			gaps[ngaps][0] = last;
			gaps[ngaps++][1] = t - last;
		}
		last = t;
		bytes += (unsigned long long)r;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	printf("{\"bytes\": %llu, \"sha256\": \"", bytes);
	for (unsigned i = 0; i < mdlen; i++)
		printf("%02x", md[i]);
	printf("\", \"first\": %.6f, \"last\": %.6f, \"max_gap\": %.6f, \"max_gap_at\": %.6f, "
	       "\"gaps\": [",
	       first, last, max_gap, max_at);
	for (size_t i = 0; i < ngaps; i++)
		printf("%s[%.6f, %.6f]", i ? ", " : "", gaps[i][0], gaps[i][1]);
	printf("]}\n");
	return r < 0;
}
