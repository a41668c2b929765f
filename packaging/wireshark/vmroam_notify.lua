-- Wireshark/TShark dissector for vmroam's eid-notify channel (UDP 4349: first-hop router <->
-- site gateway; UDP 4350: hypervisor -> first-hop router): "VMRN" | version | instance-id |
-- Envelope (protobuf, proto/eid_notify.proto) | HMAC-SHA-256. The Envelope is handed to
-- Wireshark's own protobuf dissector, which reads it from the .proto file:
--
--   tshark -X lua_script:packaging/wireshark/vmroam_notify.lua \
--          -o 'uat:protobuf_search_paths:"/path/to/vmroam/proto","TRUE"' \
--          -o protobuf.pbf_as_hf:TRUE -r capture.pcap -V
local p = Proto("vmroam_notify", "vmroam eid-notify")
local f_magic = ProtoField.string("vmroam_notify.magic", "Magic")
local f_version = ProtoField.uint8("vmroam_notify.version", "Version")
local f_iid = ProtoField.uint32("vmroam_notify.instance_id", "Instance-ID")
local f_hmac = ProtoField.bytes("vmroam_notify.hmac", "HMAC-SHA-256")
p.fields = { f_magic, f_version, f_iid, f_hmac }

local protobuf = Dissector.get("protobuf")

function p.dissector(tvb, pinfo, tree)
	if tvb:len() < 9 + 32 or tvb(0, 4):string() ~= "VMRN" then
		return 0
	end
	pinfo.cols.protocol = "VMRN"
	local t = tree:add(p, tvb(), "vmroam eid-notify")
	t:add(f_magic, tvb(0, 4))
	t:add(f_version, tvb(4, 1))
	t:add(f_iid, tvb(5, 4))
	local body = tvb:len() - 9 - 32
	if body > 0 then
		pinfo.private["pb_msg_type"] = "message,vmroam.notify.Envelope"
		protobuf:call(tvb(9, body):tvb(), pinfo, t)
	end
	t:add(f_hmac, tvb(tvb:len() - 32, 32))
	return tvb:len()
end

local udp = DissectorTable.get("udp.port")
udp:add(4349, p)
udp:add(4350, p)
