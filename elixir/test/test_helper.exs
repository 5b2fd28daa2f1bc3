# The tests' VM must not be distributed: that is the point of beamlink.
false = Node.alive?()

Beamlink.TestNodes.start_all()
ExUnit.after_suite(fn _ -> Beamlink.TestNodes.stop_all() end)
ExUnit.start(capture_log: true)
