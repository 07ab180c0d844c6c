/* explain.c - `flywheel explain`: the argv flywheel would exec, header values
 * redacted, every injected option with its fate, every decision, and every
 * effective setting with the layer and file:line that set it. */
#include "flywheel/explain.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "flywheel/config.h"
#include "flywheel/error.h"
#include "flywheel/util.h"
#include "flywheel/banned.h"


static bool secret_arg(const char *a)
{
	return str_has_prefix(a, "--remote_header=") || str_has_prefix(a, "--remote_cache_header=") ||
	       str_has_prefix(a, "--remote_exec_header=") || str_has_prefix(a, "--remote_downloader_header=") ||
	       str_has_prefix(a, "--bes_header=");
}

static void print_redacted_arg(FILE *f, const char *a)
{
	if (secret_arg(a)) {
		const char *eq = strchr(a, '=');
		const char *eq2 = strchr(eq + 1, '=');
		fprintf(f, "%.*s<redacted>", (int)(eq2 ? eq2 - a + 1 : eq - a + 1), a);
	} else {
		fputs(a, f);
	}
}

static const char *value_for_display(const struct launch *l, enum cfg_key k)
{
	if (cfg_keys[k].flags & CK_SECRET)
		return "<redacted>";
	return config_get(&l->cfg, k);
}

static int explain_text(const struct launch *l)
{
	char ver[512];
	bazel_version_describe(&l->version, ver, sizeof(ver));
	if (l->requested_mode != l->plan.mode)
		printf("mode: %s (requested %s: %s)\n", fw_mode_name(l->plan.mode), fw_mode_name(l->requested_mode),
		       l->fallback_reason[0] ? l->fallback_reason : l->ineligible_reason);
	else
		printf("mode: %s\n", fw_mode_name(l->plan.mode));
	printf("bazel: %s (via %s)\n", l->found.path, l->found.via);
	printf("bazel version: %s\n", ver);
	if (l->plan.mode != FW_MODE_LOCAL)
		printf("cache: %s\n", l->plan.cache_url);
	if (l->plan.mode == FW_MODE_EXECUTOR)
		printf("executor: %s\n", l->plan.executor_url);
	if (l->probed) {
		const struct verdict *v = l->plan.mode == FW_MODE_EXECUTOR ? &l->exec_verdict : &l->cache_verdict;
		printf("verdict: %s (%u ms, cached)\n", v->state == VERDICT_HEALTHY ? "healthy" : "failed",
		       v->latency_us / 1000);
	}
	if (l->plan.manifest)
		printf("inputs: %s (%s)\n", l->plan.manifest, l->staged_warm ? "staged" : "not staged yet");
	printf("argv:");
	for (size_t i = 0; i < l->argv.n; i++) {
		fputc(' ', stdout);
		print_redacted_arg(stdout, l->argv.v[i]);
	}
	printf("\n");
	printf("injected options:\n");
	const struct bazel_opts *lists[] = { &l->flags_.startup, &l->flags_.cmd };
	for (size_t li = 0; li < 2; li++) {
		for (size_t i = 0; i < lists[li]->n; i++) {
			const struct bazel_opt *op = &lists[li]->v[i];
			_cleanup_free_ char *s = bazel_opt_format(op);
			printf("  %-9s ", bazel_fate_name(op->fate));
			print_redacted_arg(stdout, s ? s : op->name);
			printf("  (%s%s%s)\n", op->why ? op->why : "", op->user_arg ? "; you gave " : "",
			       op->user_arg ? op->user_arg : "");
		}
	}
	if (l->notes.n) {
		printf("decisions:\n");
		for (size_t i = 0; i < l->notes.n; i++)
			printf("  %s\n", l->notes.v[i]);
	}
	printf("settings:\n");
	for (int k = 0; k < CFG__MAX; k++) {
		const struct cfg_value *v = &l->cfg.v[k];
		if (!v->value)
			continue;
		char subj[FW_ERROR_SUBJECT_MAX];
		config_subject(&l->cfg, (enum cfg_key)k, subj, sizeof(subj));
		printf("  %-36s = %-30s  [%s: %s]\n", cfg_keys[k].ini, value_for_display(l, (enum cfg_key)k),
		       cfg_layer_name(v->layer), subj);
	}
	return 0;
}

static int explain_json(const struct launch *l)
{
	json_t *o = json_object();
	json_t *argv = json_array(), *inj = json_array(), *notes = json_array(), *settings = json_object();
	char ver[512];
	bazel_version_describe(&l->version, ver, sizeof(ver));
	json_object_set_new(o, "schema", json_string("flywheel-explain/1"));
	json_object_set_new(o, "mode", json_string(fw_mode_name(l->plan.mode)));
	json_object_set_new(o, "requested_mode", json_string(fw_mode_name(l->requested_mode)));
	if (l->ineligible_reason[0])
		json_object_set_new(o, "ineligible_reason", json_string(l->ineligible_reason));
	json_object_set_new(o, "bazel", json_string(l->found.path));
	json_object_set_new(o, "bazel_via", json_string(l->found.via));
	json_object_set_new(o, "bazel_version", json_string(ver));
	json_object_set_new(o, "bazel_version_known", json_boolean(l->version.known));
	if (l->plan.mode != FW_MODE_LOCAL)
		json_object_set_new(o, "cache", json_string(l->plan.cache_url));
	if (l->plan.mode == FW_MODE_EXECUTOR)
		json_object_set_new(o, "executor", json_string(l->plan.executor_url));
	if (l->fallback_reason[0])
		json_object_set_new(o, "fallback_reason", json_string(l->fallback_reason));
	for (size_t i = 0; i < l->argv.n; i++) {
		if (secret_arg(l->argv.v[i])) {
			const char *eq = strchr(l->argv.v[i], '=');
			const char *eq2 = strchr(eq + 1, '=');
			size_t keep = (size_t)((eq2 ? eq2 : eq) - l->argv.v[i]) + 1;
			char buf[256];
			snprintf(buf, sizeof(buf), "%.*s<redacted>", (int)keep, l->argv.v[i]);
			json_array_append_new(argv, json_string(buf));
		} else {
			json_array_append_new(argv, json_string(l->argv.v[i]));
		}
	}
	const struct bazel_opts *lists[] = { &l->flags_.startup, &l->flags_.cmd };
	for (size_t li = 0; li < 2; li++) {
		for (size_t i = 0; i < lists[li]->n; i++) {
			const struct bazel_opt *op = &lists[li]->v[i];
			_cleanup_free_ char *s = bazel_opt_format(op);
			json_t *e = json_object();
			json_object_set_new(e, "option", json_string(s && !secret_arg(s) ? s : op->name));
			json_object_set_new(e, "startup", json_boolean(li == 0));
			json_object_set_new(e, "fate", json_string(bazel_fate_name(op->fate)));
			json_object_set_new(e, "why", json_string(op->why ? op->why : ""));
			if (op->user_arg)
				json_object_set_new(e, "user_arg", json_string(op->user_arg));
			json_array_append_new(inj, e);
		}
	}
	for (size_t i = 0; i < l->notes.n; i++)
		json_array_append_new(notes, json_string(l->notes.v[i]));
	for (int k = 0; k < CFG__MAX; k++) {
		const struct cfg_value *v = &l->cfg.v[k];
		if (!v->value)
			continue;
		json_t *e = json_object();
		char subj[FW_ERROR_SUBJECT_MAX];
		config_subject(&l->cfg, (enum cfg_key)k, subj, sizeof(subj));
		json_object_set_new(e, "value", json_string(value_for_display(l, (enum cfg_key)k)));
		json_object_set_new(e, "layer", json_string(cfg_layer_name(v->layer)));
		json_object_set_new(e, "origin", json_string(subj));
		json_object_set_new(settings, cfg_keys[k].ini, e);
	}
	json_object_set_new(o, "argv", argv);
	json_object_set_new(o, "injected", inj);
	json_object_set_new(o, "decisions", notes);
	json_object_set_new(o, "settings", settings);
	int r = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(o);
	return r == 0 ? 0 : FW_EX_IOERR;
}

int explain_print(const struct launch *l, bool json)
{
	return json ? explain_json(l) : explain_text(l);
}
