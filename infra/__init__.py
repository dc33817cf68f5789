"""Local infrastructure: template.yaml read as SAM would, provisioned on moto, and a
local stack that wires the real handlers the way the template wires them."""
