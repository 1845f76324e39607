ls -la
mysql -uroot -pMyS3cr3t-Root app
sshpass -p 'Tr0ub4dor-3' ssh deploy@10.0.0.5
curl -u admin:Adm1n-Pw-551 https://ci.internal.invalid/api
docker login -u ci -p Dk-Reg-Pw-9921 registry.internal.invalid
echo 'app:Ch4ngeMe-Now' | chpasswd
redis-cli -h cache -a R3dis-Pw-0042 ping
export API_TOKEN=Tk-9921-abcd-77ef
mysql -u root -p app
