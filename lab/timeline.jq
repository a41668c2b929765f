# The timeline of one move from the daemons' event histories (input: one object, see vmroam-lab).
# Each step: its name, the time in ms after the move (null: did not happen), and a detail.
. as $in
| ($in.t0) as $t0
| def ev($evs; $name; cond): [$evs[] | select(.time >= $t0 and .event == $name) | select(cond)] | first;
  def ms($e): if $e == null then null else ((($e.time - $t0) * 1000000 | round) / 1000) end;
  def after($a; $b): if $a == null or $b == null then null
    else ((($b.time - $a.time) * 1000000 | round) / 1000) end;
  def step($key; $name; $e; $detail):
    {key: $key, step: $name, ms: ms($e), detail: (if $e == null then "" else $detail end)};
  (ev($in.fhr_to; "detected"; true)) as $det
| ([ev($in.gw_to; "fhr-arrived"; true), ev($in.gw_to; "learned"; true)] | map(select(. != null))
   | min_by(.time)) as $notified
| (ev($in.gw_to; "map-register"; true)) as $reg
| (ev($in.core; "registered"; .peer as $p | $in.to_rlocs | index($p))) as $msreg
| (ev($in.core; "notify-moved"; .peer as $p | $in.from_rlocs | index($p))) as $notify
| (ev($in.gw_from; "away"; true)) as $away
| (ev($in.fhr_from; "moved-away"; true)) as $told
| (ev($in.gw_from; "smr-sent"; .peer == $in.branch_rloc)) as $smr
| def to_new: .detail as $d | any($in.to_rlocs[]; . as $r | $d | contains($r));
  (ev($in.branch; "map-cache"; to_new)) as $mc
| (ev($in.core; "map-cache"; to_new)) as $pmc
| (ev($in.idle; "map-cache"; to_new)) as $imc
| (if $in.first_reply == null then null else {time: $in.first_reply} end) as $reply
| {
    steps: [
      step("detected"; "FHR of DC\($in.to) detected the VM"; $det; $det.detail // ""),
      step("notified"; "gateway DC\($in.to) learned it"; $notified;
        if $notified.event == "learned" then "its data plane first: " + ($notified.detail // "")
        else "notified " + ($notified.detail // "") end),
      step("map_register"; "Map-Register sent"; $reg; "to " + ($reg.peer // "")),
      step("registered"; "Map-Server registered DC\($in.to)"; $msreg; $msreg.detail // ""),
      step("map_notify"; "Map-Notify to DC\($in.from)"; $notify; "to " + ($notify.peer // "")),
      step("away"; "DC\($in.from) away entry"; $away; ""),
      step("fhr_told"; "FHR of DC\($in.from) told: moved away"; $told; $told.detail // ""),
      step("smr"; "DC\($in.from) re-encapsulated a packet, SMR sent"; $smr; "to " + ($smr.peer // "")),
      step("branch_updated"; "branch map-cache -> DC\($in.to)"; $mc; $mc.detail // ""),
      step("first_reply"; "first reply via DC\($in.to)"; $reply; ""),
      step("proxy_updated"; "proxy-ITR map-cache -> DC\($in.to)"; $pmc; $pmc.detail // ""),
      step("idle_updated"; "idle proxy-ITR map-cache -> DC\($in.to)"; $imc; $imc.detail // "")
    ],
    registered_ms: ms($msreg),
    converged_at: (if $away == null then null else $away.time end),
    branch_after_registered_ms: after($msreg; $mc),
    proxy_after_registered_ms: after($msreg; $pmc),
    idle_after_registered_ms: after($msreg; $imc),
    redirect_ms: (if $smr == null or $mc == null then null
                  else ((($mc.time - $smr.time) * 1000000 | round) / 1000) end),
    detected_by: ($det.detail // null)
  }
