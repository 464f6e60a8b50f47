# modbus_plc.py PORT: a Modbus/TCP server on 127.0.0.1:PORT with 100 holding registers (all 0),
# standing in for a PLC behind the gateway (pymodbus, Debian's python3-pymodbus).
import logging
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer

# pymodbus logs every client's disconnect as an error: the test reads its log only on failure.
logging.basicConfig(level=logging.CRITICAL)
store = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, [0] * 100))
StartTcpServer(context=ModbusServerContext(slaves=store, single=True),
               address=("127.0.0.1", int(sys.argv[1])))
